// A value that components follow (the language, the signed-in caller): set it and they render again.
import { useEffect, useState } from "preact/hooks";

export interface Signal<T> {
  value: T;
  subscribe(listener: () => void): () => void;
}

export function signal<T>(initial: T): Signal<T> {
  let current = initial;
  const listeners = new Set<() => void>();
  return {
    get value() {
      return current;
    },
    set value(next: T) {
      current = next;
      for (const listener of [...listeners]) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useSignal<T>(source: Signal<T>): T {
  const [, rerender] = useState(0);
  useEffect(() => source.subscribe(() => rerender((n) => n + 1)), [source]);
  return source.value;
}

/** The hash route (#/imports/ID): static files need no server-side routes, on S3 as locally. */
export const route = signal<string>(location.hash.slice(1) || "/imports");
window.addEventListener("hashchange", () => {
  route.value = location.hash.slice(1) || "/imports";
});

export function navigate(path: string): void {
  location.hash = path;
}

export interface Caller {
  tenant: string;
  role: "viewer" | "editor" | "admin";
  key_id: string;
}

/** Who is signed in (GET /v1/me), or null. */
export const caller = signal<Caller | null>(null);

const ROLES = ["viewer", "editor", "admin"];
export function may(role: Caller["role"]): boolean {
  const me = caller.value;
  return !!me && ROLES.indexOf(me.role) >= ROLES.indexOf(role);
}
