// MuckwatchCommandLine owns what the two executables share about their
// command lines: the exit codes of SPEC §2 on top of ArgumentParser.
import ArgumentParser
import Foundation

extension ParsableCommand {
    /// Like `main()`, but with the exit codes of SPEC §2: 2 for bad usage
    /// (ArgumentParser's default is 64), 1 for failure, 0 for help/version.
    public static func mainExitingWithCode2OnUsageErrors() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exitReportingUsageAs2(error)
        }
    }

    public static func exitReportingUsageAs2(_ error: Error) -> Never {
        let code = exitCode(for: error)
        if code == .validationFailure {
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        exit(withError: error)
    }
}

extension AsyncParsableCommand {
    public static func mainAsyncExitingWithCode2OnUsageErrors() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exitReportingUsageAs2(error)
        }
    }
}
