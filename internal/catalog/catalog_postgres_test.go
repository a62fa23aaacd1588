package catalog_test

import (
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/catalog/catalogtest"
	"github.com/shelf-dam/shelf/internal/testenv"
)

func TestPostgres(t *testing.T) {
	t.Parallel()
	catalogtest.Run(t, func(t *testing.T) *catalog.Store {
		return openMigrated(t, testenv.PostgresURL(t))
	})
}
