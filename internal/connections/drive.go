package connections

import (
	"context"
	"fmt"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// openDrive builds a Drive connector from stored settings and secret.
func (s *Service) openDrive(ctx context.Context, accountID int64, st driveSettings, sec driveSecret) (storage.Connector, error) {
	return nil, fmt.Errorf("google drive connections are not available in this build")
}

func (s *Service) prepareDrive(ctx context.Context, accountID int64, req Request) (catalog.Connection, error) {
	return catalog.Connection{}, fieldError("kind", "google drive connections are not available in this build")
}
