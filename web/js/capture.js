// The microphone as a stream of 100 ms, 16 kHz mono PCM16 chunks (see pcm-worklet.js).

export const TARGET_RATE = 16000;
export const CHUNK_SAMPLES = 1600; // 100 ms: inside the protocol's 50-200 ms per chunk

/** Captures the microphone; dispatches `chunk` events ({pcm: ArrayBuffer, rms, peak}). */
export class MicrophoneCapture extends EventTarget {
  constructor() {
    super();
    this.stream = null;
    this.context = null;
  }

  get running() {
    return this.context !== null;
  }

  /** Ask for the microphone and start capturing. Throws if the user refuses or there is none. */
  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule(new URL("./pcm-worklet.js", import.meta.url));
    const source = this.context.createMediaStreamSource(this.stream);
    const node = new AudioWorkletNode(this.context, "pcm16-capture", {
      processorOptions: { targetRate: TARGET_RATE, chunkSamples: CHUNK_SAMPLES },
    });
    node.port.onmessage = (event) => this.dispatchEvent(new CustomEvent("chunk", { detail: event.data }));
    // A silent path to the destination keeps the graph pulling the worklet in every browser.
    const silent = this.context.createGain();
    silent.gain.value = 0;
    source.connect(node).connect(silent).connect(this.context.destination);
    if (this.context.state === "suspended") await this.context.resume();
  }

  /** Release the microphone. */
  async stop() {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    const context = this.context;
    this.context = null;
    if (context) await context.close();
  }
}
