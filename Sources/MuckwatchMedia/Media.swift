// MuckwatchMedia owns video: demuxing files and streams with libavformat
// (packets with their timestamps, container and stream metadata, each
// frame's wall-clock time and where that time came from) and the drone
// telemetry carried inside them (MISB ST 0601 KLV, DJI SRT subtitles). It
// decodes no pictures.
