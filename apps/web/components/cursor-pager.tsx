import Link from "next/link";

interface Props {
  label: string;
  /** Prefix of the links' test ids: `<prefix>-newer`, `-newest`, `-older`. */
  testId: string;
  /** Links to the page before (newer), back to the first page, and to the next (older); absent when there is none. */
  newer?: string;
  newest?: string;
  older?: string;
}

function Step({ href, rel, testId, children }: { href?: string; rel: string; testId: string; children: string }) {
  return href ? (
    <Link href={href} className="button button-small" rel={rel} data-testid={testId}>
      {children}
    </Link>
  ) : (
    <span className="button button-small" aria-disabled="true">
      {children}
    </span>
  );
}

/** Newer / Older by cursor, for lists newest first. */
export function CursorPager({ label, testId, newer, newest, older }: Props) {
  return (
    <nav className="pagination" aria-label={label}>
      <Step href={newer} rel="prev" testId={`${testId}-newer`}>
        ← Newer
      </Step>
      {newest && (
        <Link href={newest} className="button button-small" data-testid={`${testId}-newest`}>
          Newest
        </Link>
      )}
      <Step href={older} rel="next" testId={`${testId}-older`}>
        Older →
      </Step>
    </nav>
  );
}
