/**
 * QR codes as PNG bytes, made synchronously: links are issued inside a write command's
 * transaction, which awaits nothing but the database (bot/command.ts), and `qrcode`'s own PNG
 * output is asynchronous. `qrcode` computes the modules; this file paints them (black on white, with the
 * four-module quiet zone ISO/IEC 18004 asks for) and writes a greyscale PNG with zlib.
 */
import { deflateSync } from 'node:zlib';
import QRCode from 'qrcode';

export interface QrOptions {
  /** Pixels per module; 8 gives a ~300 px code for a short link, sharp when printed small. */
  scale?: number;
  /** Quiet zone in modules. */
  margin?: number;
}

/** The PNG of a QR code for `text` (error correction M: a crumpled print still scans). */
export function qrPng(text: string, o: QrOptions = {}): Buffer {
  const scale = o.scale ?? 8;
  const margin = o.margin ?? 4;
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const side = (n + 2 * margin) * scale;
  // One filter byte (0 = none) then one grey byte per pixel, per row.
  const raw = Buffer.alloc(side * (side + 1), 0xff);
  for (let y = 0; y < side; y++) {
    raw[y * (side + 1)] = 0;
    const my = Math.floor(y / scale) - margin;
    if (my < 0 || my >= n) continue;
    for (let x = 0; x < side; x++) {
      const mx = Math.floor(x / scale) - margin;
      if (mx >= 0 && mx < n && modules.get(my, mx)) raw[y * (side + 1) + 1 + x] = 0;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: greyscale
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
