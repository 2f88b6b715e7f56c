export { type ProxyRecord, type PathClass, classifyPath, recordsToCsv, CSV_COLUMNS } from './records.js';
export type { Fault, FaultKind, FaultHandle, FaultMatch, FaultRequest } from './faults.js';
export * from './proxy.js';
export * from './registry.js';
export * from './ostree-http.js';
export { httpRequest, type HttpRequestOptions, type HttpResponse } from './http-get.js';
