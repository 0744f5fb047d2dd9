-- instances.search_text: lower-cased instance name, machine id, app name, and the owner's
-- email and display name, kept current by triggers so the console's substring search
-- can use the trigram index on that one column.
CREATE FUNCTION instances_search_text(i instances) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT lower(concat_ws(' ', i.name, i.machine_id, i.app_name, u.email, u.display_name))
  FROM users u WHERE u.id = i.user_id
$$;
--> statement-breakpoint
CREATE FUNCTION instances_set_search_text() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_text := coalesce(instances_search_text(NEW), '');
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER instances_search_text_trg
BEFORE INSERT OR UPDATE OF name, machine_id, app_name, user_id ON instances
FOR EACH ROW EXECUTE FUNCTION instances_set_search_text();
--> statement-breakpoint
CREATE FUNCTION users_refresh_instance_search_text() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE instances i SET search_text = coalesce(instances_search_text(i), '')
  WHERE i.user_id = NEW.id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER users_search_text_trg
AFTER UPDATE OF email, display_name ON users
FOR EACH ROW EXECUTE FUNCTION users_refresh_instance_search_text();
