/** A mono signal with its sample rate. Samples are nominally in [-1, 1]. */
export interface Waveform {
  samples: Float32Array;
  /** Samples per second, in Hz. */
  sampleRate: number;
}
