/** The login page: a plain form that works without JavaScript. */
import { Layout } from "./layout.tsx";

export interface LoginPageProps {
  styles: string[];
  next: string;
  username?: string;
  error?: string;
}

/** Renders the login form, with the error (if any) announced to screen readers. */
export function LoginPage(
  { styles, next, username = "", error }: LoginPageProps,
) {
  return (
    "<!doctype html>" +
    (
      <Layout title="Log in · Ticket desk" styles={styles}>
        <article class="login">
          <hgroup>
            <h1>Ticket desk</h1>
            <p>Log in to triage tickets.</p>
          </hgroup>
          {error && (
            <p role="alert" id="login-error" class="form-error">
              {error}
            </p>
          )}
          <form method="post" action="/login">
            <input type="hidden" name="next" value={next} />
            <label for="username">Username</label>
            <input
              id="username"
              name="username"
              type="text"
              autocomplete="username"
              required
              autofocus
              value={username}
              maxlength={128}
              aria-invalid={error ? "true" : undefined}
              aria-describedby={error ? "login-error" : undefined}
            />
            <label for="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              maxlength={1024}
              aria-invalid={error ? "true" : undefined}
              aria-describedby={error ? "login-error" : undefined}
            />
            <button type="submit">Log in</button>
          </form>
        </article>
      </Layout>
    )
  );
}
