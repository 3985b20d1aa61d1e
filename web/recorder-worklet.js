// AudioWorklet processor that forwards the microphone's first channel to the page, 128 samples at a time.
class RecorderProcessor extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0]?.[0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
}

registerProcessor("heartbeat-recorder", RecorderProcessor);
