package catalog

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// SQLite extended result codes and PostgreSQL SQLSTATEs mapped to store errors.
const (
	sqliteConstraintUnique     = 2067
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintForeignKey = 787
	pgUniqueViolation          = "23505"
	pgForeignKeyViolation      = "23503"
)

// mapErr turns driver errors into store errors: a unique violation becomes
// ErrConflict, a missing referenced row ErrNotFound, no rows ErrNotFound.
// The driver error stays in the chain.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case sqliteConstraintForeignKey:
			return fmt.Errorf("%w: a referenced row does not exist: %w", ErrNotFound, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case pgForeignKeyViolation:
			return fmt.Errorf("%w: a referenced row does not exist: %w", ErrNotFound, err)
		}
	}
	return err
}

// ms is t as Unix milliseconds, the stored form of every time.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msPtr is ms for an optional time; nil stays NULL.
func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// fromMS turns stored milliseconds back into a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// fromNullMS turns a nullable stored time into an optional time.
func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullInt64Ptr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	n := v.Int64
	return &n
}

func nullIntPtr(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	n := int(v.Int64)
	return &n
}

func int64PtrArg(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

func intPtrArg(v *int) any {
	if v == nil {
		return nil
	}
	return *v
}

// normalizeEmail is the stored, compared form of an email address.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// normalizeTags trims, lower-cases, drops empty and repeated tags, keeping
// the first spelling's order.
func normalizeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding JSON column: %w", err)
	}
	return string(b), nil
}

func decodeTags(s string) ([]string, error) {
	var tags []string
	if s == "" {
		return []string{}, nil
	}
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, fmt.Errorf("decoding stored tags %q: %w", s, err)
	}
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}

func decodeCustom(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decoding stored custom fields %q: %w", s, err)
	}
	if m == nil {
		m = map[string]string{}
	}
	return m, nil
}

// likeEscape escapes s for use inside a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// nullInt64 scans a nullable integer column.
type nullInt64 = sql.NullInt64

// prefixColumns qualifies each name of a comma-separated column list with
// prefix ("a." → "a.id, a.name").
func prefixColumns(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
