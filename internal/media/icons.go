package media

import (
	"embed"
	"strings"
)

//go:embed icons/*.svg
var iconFS embed.FS

// Icon names, one per SVG under icons/.
const (
	IconImage        = "image"
	IconVideo        = "video"
	IconAudio        = "audio"
	IconPDF          = "pdf"
	IconDocument     = "document"
	IconSpreadsheet  = "spreadsheet"
	IconPresentation = "presentation"
	IconArchive      = "archive"
	IconText         = "text"
	IconFile         = "file"
)

// IconName picks the type icon for a file from its MIME type and name.
func IconName(name, mimeType string) string {
	mt := baseMIME(mimeType)
	ext := extOf(name)
	switch {
	case strings.HasPrefix(mt, "image/") || imageExts[ext]:
		return IconImage
	case strings.HasPrefix(mt, "video/") || videoExts[ext]:
		return IconVideo
	case strings.HasPrefix(mt, "audio/") || audioExts[ext]:
		return IconAudio
	case mt == "application/pdf" || ext == ".pdf":
		return IconPDF
	case strings.Contains(mt, "spreadsheet") || strings.Contains(mt, "ms-excel") || sheetExts[ext]:
		return IconSpreadsheet
	case strings.Contains(mt, "presentation") || strings.Contains(mt, "ms-powerpoint") || slideExts[ext]:
		return IconPresentation
	case strings.Contains(mt, "document") || strings.Contains(mt, "msword") || docExts[ext]:
		return IconDocument
	case archiveMIMEs[mt] || archiveExts[ext]:
		return IconArchive
	case strings.HasPrefix(mt, "text/") || textExts[ext]:
		return IconText
	}
	return IconFile
}

// Icon returns the SVG of a type icon by name (IconFile for unknown names).
func Icon(name string) []byte {
	b, err := iconFS.ReadFile("icons/" + name + ".svg")
	if err != nil {
		b, _ = iconFS.ReadFile("icons/" + IconFile + ".svg")
	}
	return b
}

var (
	imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true,
		".tif": true, ".tiff": true, ".bmp": true, ".heic": true, ".heif": true, ".avif": true,
		".svg": true, ".psd": true, ".raw": true, ".cr2": true, ".cr3": true, ".nef": true,
		".arw": true, ".dng": true, ".orf": true, ".rw2": true}
	audioExts = map[string]bool{".mp3": true, ".wav": true, ".flac": true, ".aac": true, ".m4a": true,
		".ogg": true, ".oga": true, ".opus": true, ".aiff": true, ".aif": true, ".wma": true}
	sheetExts = map[string]bool{".xls": true, ".xlsx": true, ".ods": true, ".csv": true, ".tsv": true, ".numbers": true}
	slideExts = map[string]bool{".ppt": true, ".pptx": true, ".odp": true, ".key": true}
	docExts   = map[string]bool{".doc": true, ".docx": true, ".odt": true, ".rtf": true, ".pages": true, ".epub": true}
	textExts  = map[string]bool{".txt": true, ".md": true, ".json": true, ".xml": true, ".yaml": true,
		".yml": true, ".html": true, ".htm": true, ".css": true, ".js": true, ".log": true}
	archiveExts = map[string]bool{".zip": true, ".tar": true, ".gz": true, ".tgz": true, ".bz2": true,
		".xz": true, ".7z": true, ".rar": true, ".zst": true}
	archiveMIMEs = map[string]bool{"application/zip": true, "application/x-tar": true, "application/gzip": true,
		"application/x-7z-compressed": true, "application/vnd.rar": true, "application/x-bzip2": true,
		"application/x-xz": true, "application/zstd": true}
)
