import type { Metadata } from "next";
import { safeNextPath } from "@/lib/safe-path";
import { SignInForm } from "./sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string; expired?: string }> }) {
  const { next, expired } = await searchParams;
  return (
    <main className="sign-in">
      <section className="card sign-in-card">
        <h1 className="brand-title">
          <span className="brand-mark" aria-hidden="true" /> Berth
        </h1>
        <p className="muted">Operator console for worker pools. Sign in with an API token.</p>
        {expired && (
          <p className="alert alert-warning" role="status">
            Your session ended: the token is no longer accepted. Sign in again.
          </p>
        )}
        <SignInForm next={safeNextPath(next)} />
        <p className="muted small">
          The first admin token is the one the API printed at its first start (or <code>BERTH_ADMIN_TOKEN</code>). An admin can
          create operator and viewer tokens under Tokens.
        </p>
      </section>
    </main>
  );
}
