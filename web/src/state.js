// A tiny observable value: the app re-renders when one changes (no state library needed).
export function signal(value) {
  const listeners = new Set();
  return {
    get: () => value,
    set(next) {
      value = next;
      listeners.forEach((f) => f(value));
    },
    subscribe(f) {
      listeners.add(f);
      return () => listeners.delete(f);
    },
  };
}
