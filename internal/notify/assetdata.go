package notify

import (
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// AssetData is an asset as asset.* events show it, the part every such
// event carries; library and preview events embed it and add their own
// fields (who changed it and from where; the preview's state).
type AssetData struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	FolderID    *int64    `json:"folder_id"`
	Size        int64     `json:"size"`
	MIME        string    `json:"mime"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Tags        []string  `json:"tags"`
	Rating      int       `json:"rating"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// AssetDataOf is a's event data (tags [] rather than null).
func AssetDataOf(a catalog.Asset) AssetData {
	tags := a.Tags
	if tags == nil {
		tags = []string{}
	}
	return AssetData{ID: a.ID, Name: a.Name, Path: a.Path, FolderID: a.FolderID, Size: a.Size, MIME: a.MIME,
		Title: a.Title, Description: a.Description, Tags: tags, Rating: a.Rating, UpdatedAt: a.UpdatedAt}
}
