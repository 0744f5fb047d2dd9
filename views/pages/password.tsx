/** Choose a new password; `forced` when signing in with a one-time password. */
export function PasswordPage({ forced, error }: { forced: boolean; error?: string | null }) {
  return (
    <>
      <h1>Change your password</h1>
      {forced ? (
        <div class="flash flash-warn">
          You signed in with a one-time password. Choose your own to continue.
        </div>
      ) : null}
      {error ? (
        <div class="flash flash-error" role="alert">
          {error}
        </div>
      ) : null}
      <form class="stack panel" method="post" action="/admin/account/password">
        <label>
          Current password
          <input type="password" name="currentPassword" autocomplete="current-password" required />
        </label>
        <label>
          New password (at least 12 characters)
          <input
            type="password"
            name="newPassword"
            autocomplete="new-password"
            minlength={12}
            required
          />
        </label>
        <label>
          Repeat the new password
          <input
            type="password"
            name="confirmPassword"
            autocomplete="new-password"
            minlength={12}
            required
          />
        </label>
        <button type="submit">Change password</button>
      </form>
    </>
  );
}
