import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { Suspense } from "react";
import { api, getMe, isAdmin } from "@/lib/api";
import { API_TOKENS } from "@/lib/queries";
import type { ApiToken } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { DataTable } from "@/components/data-table";
import { TableSkeleton } from "@/components/skeleton";
import { Time } from "@/components/time";
import { CreateTokenForm, RevokeTokenButton } from "./token-forms";

export const metadata: Metadata = { title: "Tokens" };

async function TokenList() {
  const { apiTokens } = await api<{ apiTokens: ApiToken[] }>(API_TOKENS);
  if (apiTokens.length === 0) return <EmptyState title="No tokens">Create one above.</EmptyState>;
  return (
    <DataTable columns={["Name", "Role", "Prefix", "Created", "Last used", "State", "Actions"]} testId="tokens-table">
      {apiTokens.map((token) => (
        <tr key={token.id} data-testid="token-row">
          <td>{token.name}</td>
          <td>
            <span className={`role role-${token.role}`}>{token.role}</span>
          </td>
          <td className="mono">{token.prefix}…</td>
          <td>
            <Time iso={token.createdAt} />
          </td>
          <td>{token.lastUsedAt ? <Time iso={token.lastUsedAt} /> : <span className="muted">never</span>}</td>
          <td data-testid="token-state">
            {token.revokedAt ? (
              <span className="muted">
                revoked <Time iso={token.revokedAt} />
              </span>
            ) : (
              <span className="status">active</span>
            )}
          </td>
          <td>{!token.revokedAt && <RevokeTokenButton id={token.id} />}</td>
        </tr>
      ))}
    </DataTable>
  );
}

export default async function TokensPage() {
  const me = await getMe();
  if (!isAdmin(me.role)) notFound();
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">API tokens</h1>
        <p className="muted">Tokens are stored hashed: a new token is shown once, when it is created.</p>
      </header>
      <section className="card" aria-labelledby="new-token-heading">
        <h2 id="new-token-heading">New token</h2>
        <CreateTokenForm />
      </section>
      <section className="card">
        <Suspense fallback={<TableSkeleton rows={3} />}>
          <TokenList />
        </Suspense>
      </section>
    </div>
  );
}
