namespace Hypervisor.Actors.Config;

/// <summary>
/// A structural check run before Akka's HOCON parser, which accepts some broken files silently
/// and loops forever on others (an unclosed list). It only tracks strings, comments and
/// brackets and reports the first imbalance with its line and column; parsing stays Akka's.
/// </summary>
public static class HoconLint
{
    /// <summary>Null when the brackets and strings balance; otherwise (line, column, problem).</summary>
    public static (int Line, int Column, string Problem)? Check(string text)
    {
        var open = new Stack<(char Bracket, int Line, int Column)>();
        int line = 1, column = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            column++;
            if (c == '\n')
            {
                line++;
                column = 0;
                continue;
            }
            if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i + 1 < text.Length && text[i + 1] != '\n')
                {
                    i++;
                }
                continue;
            }
            if (c == '"')
            {
                int startLine = line, startColumn = column;
                if (i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"')
                {
                    int end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        return (startLine, startColumn, "unterminated \"\"\" string");
                    }
                    for (; i < end + 2; i++)
                    {
                        if (text[i] == '\n')
                        {
                            line++;
                            column = 0;
                        }
                        else
                        {
                            column++;
                        }
                    }
                    continue;
                }
                i++;
                column++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\n')
                    {
                        return (startLine, startColumn, "unterminated string (a quoted string must end on its line)");
                    }
                    if (text[i] == '\\')
                    {
                        i++;
                        column++;
                    }
                    i++;
                    column++;
                }
                if (i >= text.Length)
                {
                    return (startLine, startColumn, "unterminated string");
                }
                continue;
            }
            switch (c)
            {
                case '{':
                case '[':
                    open.Push((c, line, column));
                    break;
                case '}':
                case ']':
                    char expected = c == '}' ? '{' : '[';
                    if (open.Count == 0)
                    {
                        return (line, column, $"'{c}' closes nothing");
                    }
                    (char bracket, int l, int col) = open.Pop();
                    if (bracket != expected)
                    {
                        return (line, column, $"'{c}' does not match the '{bracket}' opened at line {l}, column {col}");
                    }
                    break;
            }
        }
        if (open.Count > 0)
        {
            (char bracket, int l, int col) = open.Pop();
            return (l, col, $"'{bracket}' is never closed");
        }
        return null;
    }
}
