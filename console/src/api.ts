// The public API, as the console calls it: same origin (/v1), the key from sessionStorage, errors as
// ApiError with the API's stable code and its message in the console's language.
import { currentLanguage } from "./i18n";

const BASE = "/v1";
const KEY_STORAGE = "bulkimport.key";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: unknown[] = [],
  ) {
    super(message);
  }
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = storedKey();
  return {
    ...(key ? { Authorization: `Bearer ${key}` } : {}),
    "Accept-Language": currentLanguage(),
    ...extra,
  };
}

async function failure(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || code;
  let details: unknown[] = [];
  try {
    const body = await response.json();
    if (body?.error) {
      code = body.error.code;
      message = body.error.message;
      details = body.error.details ?? [];
    } else if (body?.message) message = body.message;
  } catch {
    /* not JSON: keep the status */
  }
  return new ApiError(response.status, code, message, details);
}

export async function call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: headers() };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = headers({ "Content-Type": "application/json" });
  }
  const response = await fetch(BASE + path, init);
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T = any>(path: string) => call<T>("GET", path);
export const post = <T = any>(path: string, body?: unknown) => call<T>("POST", path, body);
export const patch = <T = any>(path: string, body?: unknown) => call<T>("PATCH", path, body);
export const del = (path: string) => call("DELETE", path);

export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export interface Page<T> {
  data: T[];
  meta: { per_page: number; next_cursor: string | null; total: number | null };
}

/** Every item of a list, page after page (at most `limit`). */
export async function allPages<T = any>(path: string, limit = 2000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  const joiner = path.includes("?") ? "&" : "?";
  do {
    const page: Page<T> = await get<Page<T>>(
      `${path}${joiner}per_page=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    items.push(...page.data);
    cursor = page.meta.next_cursor;
  } while (cursor && items.length < limit);
  return items;
}

export interface UploadTicket {
  url: string;
  method: string;
  fields: Record<string, string>;
  max_bytes: number;
  expires_at: string;
}

/** The file to the presigned POST ticket (straight to S3), reporting progress from 0 to 1. */
export function upload(ticket: UploadTicket, file: Blob, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open(ticket.method || "POST", ticket.url);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve();
      } else {
        const code = /<Code>([^<]+)<\/Code>/.exec(request.responseText)?.[1] ?? `HTTP_${request.status}`;
        const message = /<Message>([^<]+)<\/Message>/.exec(request.responseText)?.[1] ?? code;
        reject(new ApiError(request.status, code, message));
      }
    };
    request.onerror = () => reject(new ApiError(0, "UPLOAD_FAILED", "The upload did not reach storage."));
    request.send(form);
  });
}

/** A download URL the API answers with (failures.csv: a 303 whose body is the URL). */
export async function failuresCsvUrl(importId: string): Promise<string> {
  const response = await fetch(`${BASE}/imports/${importId}/failures.csv`, {
    headers: headers({ Accept: "application/json" }),
  });
  if (!response.ok) throw await failure(response);
  const body = await response.json();
  return body.data.url;
}

/** Save a URL's file under its own name (a link click: the browser's download, no page change). */
export function download(url: string, fileName?: string): void {
  const link = document.createElement("a");
  link.href = url;
  if (fileName) link.download = fileName;
  link.rel = "noopener";
  document.body.appendChild(link);
  link.click();
  link.remove();
}

export const TERMINAL = new Set([
  "completed",
  "completed_with_errors",
  "failed",
  "cancelled",
  "reverted",
  "revert_failed",
  "revert_cancelled",
]);
export const RUNNING = new Set(["waiting_upload", "scheduled", "queued", "parsing", "importing", "reverting"]);

export interface MultipartTicket {
  method: "multipart";
  part_size: number;
  part_count: number;
  expires_at: string;
}

export interface HeldPart {
  number: number;
  size: number;
  etag: string;
}

const PARTS_AT_ONCE = 4;
const URLS_PER_CALL = 100; // the API's most part URLs a call

/** One part's bytes PUT to its presigned URL, reporting bytes sent: the ETag S3 answers. */
function putPart(url: string, data: Blob, onSent: (bytes: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    request.upload.onprogress = (event) => onSent(event.loaded);
    request.onload = () => {
      const etag = request.getResponseHeader("ETag");
      if (request.status >= 200 && request.status < 300 && etag) {
        onSent(data.size);
        resolve(etag.replace(/"/g, ""));
      } else reject(new ApiError(request.status, `HTTP_${request.status}`, request.responseText || "S3 refused a part."));
    };
    request.onerror = () => reject(new ApiError(0, "UPLOAD_FAILED", "The upload did not reach storage."));
    request.send(data);
  });
}

/** A file uploaded in parts (`PARTS_AT_ONCE` at a time), then completed: the import as it starts.
 * `held`: parts S3 already holds (a resumed upload); those of the size the plan gives are kept. */
export async function uploadInParts(
  importId: string,
  ticket: MultipartTicket,
  file: Blob,
  held: HeldPart[],
  onProgress: (fraction: number) => void,
): Promise<any> {
  const { part_size: size, part_count: count } = ticket;
  const bounds = (n: number) => [(n - 1) * size, Math.min(n * size, file.size)] as const;
  const etags = new Map<number, string>();
  for (const part of held) {
    const [start, end] = bounds(part.number);
    if (part.number <= count && part.size === end - start) etags.set(part.number, part.etag);
  }
  const sent = new Map<number, number>();
  const report = () => {
    let total = 0;
    for (const n of etags.keys()) total += bounds(n)[1] - bounds(n)[0];
    for (const [n, bytes] of sent) if (!etags.has(n)) total += bytes;
    onProgress(file.size ? total / file.size : 1);
  };
  report();
  const todo = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !etags.has(n));
  for (let first = 0; first < todo.length; first += URLS_PER_CALL) {
    const numbers = todo.slice(first, first + URLS_PER_CALL);
    const urls: { number: number; url: string }[] = (
      await post(`/imports/${importId}/upload/parts`, { numbers })
    ).data;
    const queue = [...urls];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const { number, url } = next;
        const [start, end] = bounds(number);
        const etag = await putPart(url, file.slice(start, end), (bytes) => {
          sent.set(number, bytes);
          report();
        });
        etags.set(number, etag);
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARTS_AT_ONCE, queue.length) }, worker));
  }
  const parts = [...etags].sort(([a], [b]) => a - b).map(([number, etag]) => ({ number, etag }));
  return (await post(`/imports/${importId}/upload/complete`, { parts })).data;
}
