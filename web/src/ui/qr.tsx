import { encode } from "uqr";

/**
 * A QR code as inline SVG (one path of dark modules on white, with the quiet zone), big and high
 * contrast for the counter's scanner. The content is exactly `value`.
 */
export function QrCode({
  value,
  label,
  size = 260,
  className = "wallet-qr",
}: {
  value: string;
  label: string;
  size?: number;
  className?: string;
}) {
  const { data } = encode(value, { ecc: "M", border: 4 });
  const n = data.length;
  let d = "";
  for (const [y, row] of data.entries()) {
    for (const [x, dark] of row.entries()) if (dark) d += `M${x} ${y}h1v1h-1z`;
  }
  return (
    <div className={`qr ${className}`}>
      <svg
        role="img"
        aria-label={label}
        viewBox={`0 0 ${n} ${n}`}
        width={size}
        height={size}
        shapeRendering="crispEdges"
      >
        <rect width={n} height={n} fill="#fff" />
        <path d={d} fill="#000" />
      </svg>
    </div>
  );
}
