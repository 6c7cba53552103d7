import Link from "next/link";

export default function NotFound() {
  return (
    <main className="sign-in">
      <section className="card sign-in-card">
        <h1>Page not found</h1>
        <p className="muted">There is nothing at this address.</p>
        <Link href="/pools" className="button">
          Go to pools
        </Link>
      </section>
    </main>
  );
}
