// Tile and block sizes of the matrix product, and the static workspace they need.
// MR × NR = register tile (MR rows × 2 vectors; MR is 4 or 6, chosen at run time by setTileRows), KC = depth
// of a packed block, MC = rows of a packed A block (a multiple of both tile heights), NC = columns of a packed
// B panel.

export const MR_MIN = 4;
export const MR_MAX = 6;
export const NR = 8;
export const KC = 256;
export const MC = 120;
export const NC = 1024;

export const packBytesA: usize = MC * KC * 4;
export const packBytesB: usize = KC * NC * 4;
export const tileBytes: usize = MR_MAX * NR * 4;
