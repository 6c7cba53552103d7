import type { ReactNode } from "react";

interface Props {
  /** Column headings; `false` leaves a column out (e.g. actions a role cannot use). */
  columns: (string | false)[];
  testId?: string;
  /** The rows. */
  children: ReactNode;
  /** Under the table, inside its frame (pagination). */
  footer?: ReactNode;
}

/** The console's table: a frame that scrolls sideways on narrow screens, a header row, the rows. */
export function DataTable({ columns, testId, children, footer }: Props) {
  return (
    <div className="table-wrap">
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
