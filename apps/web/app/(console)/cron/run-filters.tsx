"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";

const STATUSES = ["running", "succeeded", "failed", "missed"];

/** Job and status filters that live in the URL, so a filtered history can be shared and reloaded. */
export function RunFilters({ jobs }: { jobs: string[] }) {
  const searchParams = useSearchParams();
  const pathname = usePathname();
  const { replace } = useRouter();

  function update(name: "job" | "status", value: string) {
    const params = new URLSearchParams(searchParams);
    params.delete("page");
    if (value) params.set(name, value);
    else params.delete(name);
    const query = params.toString();
    replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  }

  return (
    <div className="filters" role="search" aria-label="Filter runs">
      <label className="field">
        <span>Job</span>
        <select value={searchParams.get("job") ?? ""} onChange={(e) => update("job", e.target.value)} data-testid="filter-job">
          <option value="">All jobs</option>
          {jobs.map((job) => (
            <option key={job} value={job}>
              {job}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Status</span>
        <select value={searchParams.get("status") ?? ""} onChange={(e) => update("status", e.target.value)} data-testid="filter-status">
          <option value="">Any status</option>
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
