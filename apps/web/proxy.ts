import { NextResponse, type NextRequest } from "next/server";
import { TOKEN_COOKIE } from "./lib/config";

// Visitors without a session go to sign-in before any page renders. Whether the token is still
// valid is the API's call: pages send a refused token back to sign-in themselves.
export function proxy(request: NextRequest) {
  if (request.cookies.has(TOKEN_COOKIE)) return NextResponse.next();
  const signIn = new URL("/sign-in", request.url);
  const wanted = request.nextUrl.pathname + request.nextUrl.search;
  if (wanted !== "/") signIn.searchParams.set("next", wanted);
  return NextResponse.redirect(signIn);
}

export const config = {
  // API routes answer 401 themselves (and stream bodies, which a proxy would buffer).
  matcher: ["/((?!api/|_next/|sign-in|favicon.ico|icon.svg).*)"],
};
