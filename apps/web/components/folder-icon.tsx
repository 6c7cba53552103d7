/** A folder drawn inline: an emoji renders as an empty box where no emoji font is installed. */
export function FolderIcon() {
  return (
    <svg className="folder-icon" viewBox="0 0 20 16" width="18" height="14" aria-hidden="true" focusable="false">
      <path d="M1 2.5A1.5 1.5 0 0 1 2.5 1h4.6l1.8 2h8.6A1.5 1.5 0 0 1 19 4.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 1 13.5z" fill="#e8b93c" stroke="#b8891a" strokeWidth="1" />
    </svg>
  );
}
