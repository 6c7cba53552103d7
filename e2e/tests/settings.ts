// Fixed values the e2e run starts the product with (see playwright.config.ts).
export const API_PORT = 4310;
export const WEB_PORT = 3310;
export const API_URL = `http://127.0.0.1:${API_PORT}`;
export const WEB_URL = `http://127.0.0.1:${WEB_PORT}`;
export const ADMIN_TOKEN = "berth-e2e-admin-token-0123456789";
