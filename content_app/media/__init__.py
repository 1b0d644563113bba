"""FFmpeg and ffprobe, wrapped: probing, the rendition ladder, encoding arguments, progress."""
