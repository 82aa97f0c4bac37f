// Vite's `?raw` imports (fixture files as text in workerd tests, which have no file system).
declare module '*?raw' {
  const text: string;
  export default text;
}
