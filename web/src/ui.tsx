// Small pieces every page uses: loading data, showing errors, copying a value.

import { useCallback, useEffect, useState } from "preact/hooks";
import type { ComponentChildren, JSX } from "preact";
import { errorText } from "./api";

/// Loads `load()` when `deps` change; `reload` runs it again.
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState("");
  const reload = useCallback(() => {
    setError("");
    load().then(setData, (e) => setError(errorText(e)));
  }, deps);
  useEffect(reload, deps);
  return { data, error, reload, setData };
}

/// For a page's buttons and forms: `run(action)` clears the last error, runs the action and
/// keeps its failure as the text to show.
export function useAction() {
  const [error, setError] = useState("");
  const run = async (action: () => Promise<unknown>) => {
    setError("");
    try {
      await action();
    } catch (e) {
      setError(errorText(e));
    }
  };
  return { run, error };
}

export function ErrorText({ text }: { text: string }) {
  return text ? (
    <p class="error" role="alert">
      {text}
    </p>
  ) : null;
}

export function Page({ title, children }: { title: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · Reelhub`;
  }, [title]);
  return (
    <section class="page">
      <h1 tabIndex={-1}>{title}</h1>
      {children}
    </section>
  );
}

/// A labelled text input bound to `value`.
export function Field({
  label,
  onValue,
  ...input
}: { label: string; onValue: (value: string) => void } & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, "label">) {
  return (
    <label>
      {label}
      <input {...input} onInput={(e) => onValue(e.currentTarget.value)} />
    </label>
  );
}

export function CopyField({ label, value, testid }: { label: string; value: string; testid: string }) {
  const [copied, setCopied] = useState(false);
  const id = `copy-${testid}`;
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // No clipboard permission (plain http off localhost): select the text for Ctrl+C instead.
      (document.getElementById(id) as HTMLInputElement).select();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  }
  return (
    <div class="copy">
      <label for={id}>{label}</label>
      <div class="row">
        <input id={id} readOnly value={value} data-testid={testid} />
        <button type="button" onClick={copy}>
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
}

export function when(iso: string): string {
  return new Date(iso).toLocaleString();
}
