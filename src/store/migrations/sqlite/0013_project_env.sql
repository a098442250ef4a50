-- 0013_project_env.sql - the variables a project's compose file was registered or
-- brought up with (the caller's environment, docs/ORCHESTRATION.md "Variables"):
-- a JSON object of NAME -> value, kept so a restarted daemon loads the same stack.
ALTER TABLE projects ADD COLUMN env_json TEXT;
