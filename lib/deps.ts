// Every third-party import of lib/ lives here, with a full `npm:` specifier and pinned version,
// so lib/ works when imported by URL with no import map.
export { default as FFT } from "npm:fft.js@4.0.4";
