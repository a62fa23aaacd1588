-- OAuth grants waiting to be used by a storage connection: after the admin
-- authorises Google Drive, the (encrypted) token is kept here while they
-- pick the folder; connecting moves it into storage_connections.secret.
CREATE TABLE oauth_grants (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    provider   TEXT    NOT NULL,
    token      BLOB    NOT NULL, -- encrypted (secrets.Box)
    created_at INTEGER NOT NULL
);
