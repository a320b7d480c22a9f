// The listener link as a QR code, drawn as SVG. Encoding comes from the vendored
// qrcode-generator 2.0.4 (MIT, Kazuhiko Arase; see vendor/qrcode-generator/README.md).
import qrcode from "../vendor/qrcode-generator/qrcode.mjs";

const SVG = "http://www.w3.org/2000/svg";
const QUIET_ZONE = 4; // modules of white border the QR standard asks for

/** Replace `container`'s content with an SVG QR code of `text` (error correction M). */
export function renderQr(container, text) {
  const code = qrcode(0, "M"); // 0: the smallest version that fits
  code.addData(String.fromCharCode(...new TextEncoder().encode(text))); // UTF-8 bytes, one per char
  code.make();
  const count = code.getModuleCount();
  const size = count + 2 * QUIET_ZONE;
  let path = "";
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (code.isDark(row, col)) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("class", "qr");
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("aria-hidden", "true");
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", String(size));
  background.setAttribute("height", String(size));
  background.setAttribute("fill", "#fff");
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", path);
  modules.setAttribute("fill", "#000");
  svg.append(background, modules);
  container.replaceChildren(svg);
  container.dataset.modules = String(count);
}
