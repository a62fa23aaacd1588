-- Sign-in attempts of the last minutes, kept in the catalog so that every
-- process on one database counts them together for the sign-in limits (per
-- email and client address, per client address, per email). An attempt is
-- recorded before its password is checked, so parallel guesses count at
-- once; it is deleted when it is refused unchecked or when the email signs
-- in from that address, and purged once older than the limits' window.
CREATE TABLE signin_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email_key  TEXT    NOT NULL, -- hex SHA-256 of the normalised email
    client_ip  TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX signin_attempts_email ON signin_attempts (email_key, at);
CREATE INDEX signin_attempts_ip ON signin_attempts (client_ip, at);
CREATE INDEX signin_attempts_at ON signin_attempts (at);
