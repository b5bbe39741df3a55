import { useState } from "preact/hooks";
import { login, register } from "../api";
import { navigate } from "../router";
import { ErrorText, Field, Page, useAction } from "../ui";

export function Login() {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const { run, error } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await login(name, password);
      navigate(new URLSearchParams(location.search).get("next") ?? "/");
    });
  };
  return (
    <Page title="Log in">
      <form class="stack narrow" onSubmit={submit}>
        <Field label="Username or e-mail" name="login" autoComplete="username" required value={name} onValue={setName} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
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
  const { run, error } = useAction();
  const field = (k: keyof typeof form) => (value: string) => setForm({ ...form, [k]: value });
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await register(form.username, form.email, form.password, form.role);
      await login(form.username, form.password);
      navigate("/");
    });
  };
  return (
    <Page title="Sign up">
      <form class="stack narrow" onSubmit={submit}>
        <Field label="Username" name="username" autoComplete="username" required value={form.username} onValue={field("username")} />
        <Field label="E-mail" name="email" type="email" autoComplete="email" required value={form.email} onValue={field("email")} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={form.password}
          onValue={field("password")}
        />
        <label>
          Account
          <select name="role" value={form.role} onChange={(e) => field("role")(e.currentTarget.value)}>
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
