import { useState } from "preact/hooks";
import { errorText, login, register } from "../api";
import { navigate } from "../router";
import { ErrorText, Page } from "../ui";

export function Login() {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  async function submit(e: Event) {
    e.preventDefault();
    setError("");
    try {
      await login(name, password);
      navigate(new URLSearchParams(location.search).get("next") ?? "/");
    } catch (err) {
      setError(errorText(err));
    }
  }
  return (
    <Page title="Log in">
      <form class="stack narrow" onSubmit={submit}>
        <label>
          Username or e-mail
          <input name="login" autoComplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <ErrorText text={error} />
        <button type="submit">Log in</button>
        <p>
          No account? <a href="/signup">Sign up</a>
        </p>
      </form>
    </Page>
  );
}

export function Signup() {
  const [form, setForm] = useState({ username: "", email: "", password: "", role: "viewer" });
  const [error, setError] = useState("");
  const field = (k: keyof typeof form) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
    setForm({ ...form, [k]: e.currentTarget.value });
  async function submit(e: Event) {
    e.preventDefault();
    setError("");
    try {
      await register(form.username, form.email, form.password, form.role);
      await login(form.username, form.password);
      navigate("/");
    } catch (err) {
      setError(errorText(err));
    }
  }
  return (
    <Page title="Sign up">
      <form class="stack narrow" onSubmit={submit}>
        <label>
          Username
          <input name="username" autoComplete="username" required value={form.username} onInput={field("username")} />
        </label>
        <label>
          E-mail
          <input name="email" type="email" autoComplete="email" required value={form.email} onInput={field("email")} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            value={form.password}
            onInput={field("password")}
          />
        </label>
        <label>
          Account
          <select name="role" value={form.role} onChange={field("role")}>
            <option value="viewer">Viewer</option>
            <option value="streamer">Streamer (can go live)</option>
          </select>
        </label>
        <ErrorText text={error} />
        <button type="submit">Create account</button>
        <p>
          Have an account? <a href="/login">Log in</a>
        </p>
      </form>
    </Page>
  );
}
