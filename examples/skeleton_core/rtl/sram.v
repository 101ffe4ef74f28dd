// Single-port SRAM model: CEN/WEN active low; a read's data appears on Q the cycle after.
module sram #(parameter width = 32, parameter depth = 2048) (
    input                       CLK,
    input  [width-1:0]          D,
    output reg [width-1:0]      Q,
    input                       CEN,
    input                       WEN,
    input  [$clog2(depth)-1:0]  A
);
    reg [width-1:0] memory [0:depth-1];
    always @(posedge CLK) begin
        if (!CEN && WEN) Q <= memory[A];
        if (!CEN && !WEN) memory[A] <= D;
    end
endmodule
