// MuckwatchMedia owns video: demuxing files and streams with libavformat
// (packets with their timestamps, container and stream metadata, each
// frame's wall-clock time and where that time came from) and finding the
// drone telemetry carried inside them (KLV and subtitle packets, sidecar SRT
// files), which Core's MISB 0601 and DJI SRT decoders read. It decodes no
// pictures.
