import { type AssetUrls, Head } from '../layout.tsx';

/** The sign-in form. `error` is shown above it; the email field keeps what was typed. */
export function LoginPage({
  assets,
  error,
  email,
  next,
}: {
  assets: AssetUrls;
  error?: string | null;
  email?: string;
  next?: string;
}) {
  return (
    <html lang="en">
      <Head title="Sign in" assets={assets} />
      <body>
        <main class="login panel">
          <h1>Sign in to fleetwarden</h1>
          {error ? (
            <div class="flash flash-error" role="alert">
              {error}
            </div>
          ) : null}
          <form method="post" action="/admin/login">
            <input type="hidden" name="next" value={next ?? '/admin'} />
            <label>
              Email
              <input
                type="email"
                name="email"
                value={email ?? ''}
                autocomplete="username"
                required
                autofocus
              />
            </label>
            <label>
              Password
              <input type="password" name="password" autocomplete="current-password" required />
            </label>
            <button type="submit">Sign in</button>
          </form>
        </main>
      </body>
    </html>
  );
}
