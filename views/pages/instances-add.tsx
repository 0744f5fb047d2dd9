/** Provision one instance, or adopt a Fly app's machines. */
export function AddInstances({ imageTags, flyApp }: { imageTags: string[]; flyApp: string }) {
  return (
    <details class="panel">
      <summary>Add instances</summary>
      <div class="grid2">
        <form hx-boost="true" method="post" action="/admin/instances/provision" class="stack">
          <h2>Provision</h2>
          <label>
            Owner email
            <input type="email" name="userEmail" required />
          </label>
          <label>
            Owner name (optional)
            <input type="text" name="displayName" maxlength={100} />
          </label>
          <label>
            Region
            <input
              type="text"
              name="region"
              required
              pattern="[a-z]{3}"
              placeholder="ams"
              maxlength={3}
            />
          </label>
          <label>
            Version
            <select name="imageTag">
              <option value="">Latest</option>
              {imageTags.map((t) => (
                <option value={t}>{t}</option>
              ))}
            </select>
          </label>
          <button type="submit">Provision instance</button>
        </form>
        <form hx-boost="true" method="post" action="/admin/instances/import" class="stack">
          <h2>Import from Fly</h2>
          <p class="muted small">
            Adopts every machine of a Fly app that is not an instance yet; owners come from the
            machine metadata key <code>fleetwarden_user_email</code>.
          </p>
          <label>
            Fly app
            <input
              type="text"
              name="appName"
              required
              value={flyApp}
              pattern="[a-z0-9][a-z0-9-]+"
            />
          </label>
          <button type="submit" class="secondary">
            Import machines
          </button>
        </form>
      </div>
    </details>
  );
}
