/**
 * Value of an arithmetic expression of numbers, + - * / and parentheses, such as SVAMP's
 * `( 84.0 / 2.0 )`. Returns null for anything else; never evaluates code.
 */
export function evaluateEquation(text: string): number | null {
  const tokens = text.match(/\d+(?:\.\d+)?|[-+*/()]|\S/g);
  if (!tokens || tokens.length === 0) return null;
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];

  function expression(): number | null {
    let value = term();
    while (value !== null && (peek() === '+' || peek() === '-')) {
      const operator = take();
      const right = term();
      if (right === null) return null;
      value = operator === '+' ? value + right : value - right;
    }
    return value;
  }
  function term(): number | null {
    let value = factor();
    while (value !== null && (peek() === '*' || peek() === '/')) {
      const operator = take();
      const right = factor();
      if (right === null) return null;
      value = operator === '*' ? value * right : value / right;
    }
    return value;
  }
  function factor(): number | null {
    const token = take();
    if (token === undefined) return null;
    if (token === '-') {
      const inner = factor();
      return inner === null ? null : -inner;
    }
    if (token === '(') {
      const inner = expression();
      if (take() !== ')') return null;
      return inner;
    }
    const number = Number(token);
    return Number.isFinite(number) ? number : null;
  }

  const value = expression();
  return position === tokens.length && value !== null && Number.isFinite(value) ? value : null;
}
