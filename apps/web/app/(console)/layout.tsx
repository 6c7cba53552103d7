import Link from "next/link";
import type { ReactNode } from "react";
import { unstable_rethrow } from "next/navigation";
import { api, getMe, isAdmin } from "@/lib/api";
import { apiBaseUrl } from "@/lib/config";
import { ApiUnreachableError } from "@/lib/errors";
import { APPROVALS_COUNT } from "@/lib/queries";
import type { Me } from "@/lib/types";
import { NavLinks, type NavItem } from "@/components/nav-links";
import { signOut } from "../sign-in/actions";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  let me: Me | null = null;
  let unreachable = false;
  try {
    me = await getMe();
  } catch (error) {
    unstable_rethrow(error);
    if (!(error instanceof ApiUnreachableError)) throw error;
    unreachable = true;
  }

  // The count is a hint: a failure to read it leaves it out rather than failing the page.
  let waiting = 0;
  if (me) {
    try {
      waiting = (await api<{ approvalsCount: number }>(APPROVALS_COUNT)).approvalsCount;
    } catch (error) {
      unstable_rethrow(error);
    }
  }

  const items: NavItem[] = [
    { href: "/pools", label: "Pools" },
    { href: "/tasks", label: "Tasks" },
    { href: "/approvals", label: "Approvals", count: waiting },
    { href: "/schedules", label: "Schedules" },
    { href: "/cron", label: "Cron" },
    { href: "/locks", label: "Locks" },
    { href: "/cluster", label: "Cluster" },
    { href: "/files", label: "Files" },
    { href: "/explorer", label: "Explorer" },
  ];
  if (me && isAdmin(me.role)) items.push({ href: "/tokens", label: "Tokens" }, { href: "/audit", label: "Audit" });

  return (
    <div className="shell">
      <header className="topbar">
        <Link href="/pools" className="brand">
          <span className="brand-mark" aria-hidden="true" /> Berth
        </Link>
        <NavLinks items={items} />
        <div className="whoami">
          {me && (
            <span className="user" data-testid="whoami" data-role={me.role}>
              {me.name} <span className={`role role-${me.role}`}>{me.role}</span>
            </span>
          )}
          <form action={signOut}>
            <button type="submit" className="button button-small">
              Sign out
            </button>
          </form>
        </div>
      </header>
      <main className="content">
        {unreachable ? (
          <div className="page">
            <div className="card alert-error-card" role="alert" data-testid="api-unreachable">
              <h1>The Berth API is not answering</h1>
              <p>
                The console could not reach the API at <code>{apiBaseUrl()}</code>. Start it with <code>pnpm start</code> (or
                set <code>API_URL</code> to where it runs), then reload this page.
              </p>
            </div>
          </div>
        ) : (
          children
        )}
      </main>
    </div>
  );
}
