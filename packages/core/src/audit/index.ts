export { auditCursor, listAudit, pruneAudit, recordAudit, MAX_AUDIT_PAGE, type AuditFilter, type AuditPage, type AuditRecord } from "./log.js";
