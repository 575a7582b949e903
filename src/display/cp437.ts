/**
 * IBM PC code page 437 (the VGA ROM font's character set) to Unicode, including the graphic
 * symbols the font shows for control codes 0x01-0x1F and 0x7F. Code 0x00 maps to a space.
 */
const LOW = ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼';
const HIGH =
  'ÇüéâäàåçêëèïîìÄÅ' +
  'ÉæÆôöòûùÿÖÜ¢£¥₧ƒ' +
  'áíóúñÑªº¿⌐¬½¼¡«»' +
  '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧' +
  '╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩' +
  '≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

export const CP437: readonly string[] = (() => {
  const table: string[] = [];
  for (const ch of LOW) table.push(ch);
  for (let c = 0x20; c < 0x7f; c++) table.push(String.fromCharCode(c));
  table.push('⌂');
  for (const ch of HIGH) table.push(ch);
  return table;
})();

export function cp437ToUnicode(code: number): string {
  return CP437[code & 0xff];
}
