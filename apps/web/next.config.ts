import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The console is a thin shell over the API: every page reads the signed-in token, so nothing is prerendered.
  typedRoutes: false,
};

export default nextConfig;
