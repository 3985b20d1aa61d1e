/** Base class of every error the toolkit throws on purpose. Messages are one line:
 * "Cannot <action>: <what was wrong>". */
export class HeartSoundError extends Error {
  override name = "HeartSoundError";
}

/** A function was called with an argument outside its documented range. */
export class ParameterError extends HeartSoundError {
  override name = "ParameterError";
}

/** Bytes that are not a WAV file we can read. */
export class WavFormatError extends HeartSoundError {
  override name = "WavFormatError";
}

/** A model or its preprocessing metadata cannot be loaded or does not fit the data. */
export class ModelError extends HeartSoundError {
  override name = "ModelError";
}

/** A dataset folder is missing or does not have the expected layout. */
export class DatasetError extends HeartSoundError {
  override name = "DatasetError";
}
