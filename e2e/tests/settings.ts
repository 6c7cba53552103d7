// Values the e2e run starts the product with (see playwright.config.ts). The ports can be moved
// with BERTH_E2E_API_PORT / BERTH_E2E_WEB_PORT, so that two runs on one machine do not collide.
export const API_PORT = Number(process.env.BERTH_E2E_API_PORT ?? 4310);
export const WEB_PORT = Number(process.env.BERTH_E2E_WEB_PORT ?? 3310);
export const API_URL = `http://127.0.0.1:${API_PORT}`;
export const WEB_URL = `http://127.0.0.1:${WEB_PORT}`;
export const ADMIN_TOKEN = "berth-e2e-admin-token-0123456789";
