import { useEffect, useRef, useState } from "react";
import { useT } from "../i18n/index.tsx";

/**
 * The rear camera in a <video>, about 8 frames a second drawn to a canvas and read by jsQR (loaded
 * only when the cashier scans). The camera stops as soon as a code is read, on cancel, and when the
 * scanner leaves the screen.
 */

const FRAME_MS = 125;
const MAX_SIDE = 640;

type ScanError = "denied" | "no-camera" | "unsupported" | "failed";

export function Scanner({ onCode, onCancel }: { onCode: (text: string) => void; onCancel: () => void }) {
  const { t } = useT();
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<ScanError | null>(null);
  const [ready, setReady] = useState(false);
  const found = useRef(onCode);
  found.current = onCode;

  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });

    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const track of stream?.getTracks() ?? []) track.stop();
      stream = null;
    };

    (async () => {
      if (!navigator.mediaDevices?.getUserMedia) {
        setError("unsupported");
        return;
      }
      try {
        const [media, jsqr] = await Promise.all([
          navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
          import("jsqr"),
        ]);
        stream = media;
        if (stopped) {
          stop();
          return;
        }
        const element = video.current;
        if (!element || !context) return;
        element.srcObject = media;
        await element.play().catch(() => {});
        setReady(true);
        const decode = jsqr.default;
        const tick = () => {
          if (stopped) return;
          if (element.readyState >= element.HAVE_CURRENT_DATA && element.videoWidth > 0) {
            const scale = Math.min(1, MAX_SIDE / Math.max(element.videoWidth, element.videoHeight));
            const width = Math.round(element.videoWidth * scale);
            const height = Math.round(element.videoHeight * scale);
            canvas.width = width;
            canvas.height = height;
            context.drawImage(element, 0, 0, width, height);
            const image = context.getImageData(0, 0, width, height);
            const code = decode(image.data, width, height, { inversionAttempts: "dontInvert" });
            if (code?.data) {
              stop();
              found.current(code.data);
              return;
            }
          }
          timer = setTimeout(tick, FRAME_MS);
        };
        tick();
      } catch (caught) {
        stop();
        const name = caught instanceof DOMException ? caught.name : "";
        setError(
          name === "NotAllowedError" || name === "SecurityError"
            ? "denied"
            : name === "NotFoundError" || name === "OverconstrainedError"
              ? "no-camera"
              : "failed",
        );
      }
    })();
    return stop;
  }, []);

  return (
    <section className="card counter-scanner" aria-labelledby="counter-scan-title">
      <h2 id="counter-scan-title">{t("counter.scan.title")}</h2>
      {error ? (
        <div className="alert error" role="alert">
          {t(`counter.scan.error.${error}`)}
        </div>
      ) : (
        <>
          <div className="counter-video">
            <video ref={video} muted playsInline aria-label={t("counter.scan.video")} />
            <span className="counter-aim" aria-hidden="true" />
          </div>
          <p className="muted" aria-live="polite">
            {ready ? t("counter.scan.hint") : t("counter.scan.starting")}
          </p>
        </>
      )}
      <button type="button" className="button secondary large block" onClick={onCancel}>
        {t("counter.scan.cancel")}
      </button>
    </section>
  );
}
