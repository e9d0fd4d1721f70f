"""The one rendering path real and generated chorales take: MIDI and audio (audio), loudness
(loudness), excerpts cut in frames (excerpt), engraved scores (svg), and files in and out
(files)."""
