import type { ReactNode } from "react";

interface Props {
  /** Column headings; `false` leaves a column out (e.g. actions a role cannot use). */
  columns: (string | false)[];
  testId?: string;
  /** The rows. */
  children: ReactNode;
  /** Under the table, inside its frame (pagination). */
  footer?: ReactNode;
  /** Names the scrollable frame for screen readers. */
  label?: string;
}

/** The console's table: a frame that scrolls sideways on narrow screens, a header row, the rows. */
export function DataTable({ columns, testId, children, footer, label = "Table" }: Props) {
  return (
    // Focusable, so that a table wider than a phone's screen can be scrolled from the keyboard.
    <div className="table-wrap" tabIndex={0} role="region" aria-label={label}>
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            {columns
              .filter((c): c is string => c !== false)
              .map((c) => (
                <th scope="col" key={c}>
                  {c}
                </th>
              ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
      {footer}
    </div>
  );
}
