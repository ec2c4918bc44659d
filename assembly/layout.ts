// Tile and block sizes of the matrix product, and the static workspace they need.
// MR × NR = register tile (4 rows × 2 vectors), KC = depth of a packed block, MC = rows of a packed A block,
// NC = columns of a packed B panel.

export const MR = 4;
export const NR = 8;
export const KC = 256;
export const MC = 128;
export const NC = 1024;

export const packBytesA: usize = MC * KC * 4;
export const packBytesB: usize = KC * NC * 4;
export const tileBytes: usize = MR * NR * 4;
