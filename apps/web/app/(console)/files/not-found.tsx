import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function FilesNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such file or folder">
        <Link href="/files">Back to all files</Link>
      </EmptyState>
    </div>
  );
}
